output "sg_id" {
  description = "The NATS servers' security group (the root adds gateway rules)."
  value       = aws_security_group.nats.id
}

output "client_urls" {
  description = "Client URLs for this region's Lectern nodes (private addresses, TLS)."
  value       = [for ip in local.private_ips : "tls://${ip}:4222"]
}

output "gateway_urls" {
  description = "This region's gateway seeds for the other regions (Elastic IPs)."
  value       = [for e in aws_eip.nats : "nats://${e.public_ip}:7222"]
}

output "public_ips" {
  description = "Elastic IPs of the servers."
  value       = aws_eip.nats[*].public_ip
}
