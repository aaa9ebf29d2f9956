output "vpc_id" {
  description = "The region's VPC."
  value       = aws_vpc.main.id
}

output "subnet_ids" {
  description = "The region's public subnets."
  value       = aws_subnet.public[*].id
}

output "subnet_cidrs" {
  description = "CIDR blocks of subnet_ids, same order."
  value       = aws_subnet.public[*].cidr_block
}

output "node_sg_id" {
  description = "The nodes' security group (the root adds relay rules to it)."
  value       = aws_security_group.node.id
}

output "public_ips" {
  description = "Elastic IPs of the region's nodes."
  value       = [for e in aws_eip.node : e.public_ip]
}

output "nodes" {
  description = "The region's nodes by id: role, region, addresses."
  value = {
    for id, n in local.nodes : id => {
      role       = n.role
      region     = var.region
      public_ip  = aws_eip.node[id].public_ip
      private_ip = aws_instance.node[id].private_ip
    }
  }
}
