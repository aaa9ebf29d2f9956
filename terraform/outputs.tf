output "viewer_url" {
  description = "Where viewers go: latency-routed to the nearest healthy region."
  value       = "https://${var.domain}/"
}

output "publish_url" {
  description = "The teacher page on the origin."
  value       = [for id, n in local.all_nodes : "https://${id}.${var.domain}/publish" if n.role == "origin"]
}

output "nodes" {
  description = "Every Lectern node: role, region, public and private address."
  value       = local.all_nodes
}

output "nats_client_urls" {
  description = "Each region's NATS client URLs (private)."
  value       = local.nats_urls
}
