# Steering's first step: one DNS name, latency-routed to the nearest region
# whose nodes pass their /readyz health checks (a draining node answers 503
# and drops out).  Every region with a node that serves viewers has a
# record: its edges, and its origin where origin_viewers lets it serve
# (own_region: when the region has no edge; always: beside them).  Every
# node also gets its own name for redirects and Location headers
# (http.public_url).

resource "aws_route53_health_check" "node" {
  provider          = aws.us_east_1
  for_each          = local.all_nodes
  type              = "HTTPS"
  ip_address        = each.value.public_ip
  port              = 443
  resource_path     = "/readyz"
  fqdn              = "${each.key}.${var.domain}"
  request_interval  = 10
  failure_threshold = 2
  tags              = { Name = "${var.project}-${each.key}" }
}

# A region is healthy while any of the nodes that serve its viewers is.
resource "aws_route53_health_check" "region" {
  provider               = aws.us_east_1
  for_each               = local.viewer_nodes
  type                   = "CALCULATED"
  child_health_threshold = 1
  child_healthchecks     = [for id in each.value : aws_route53_health_check.node[id].id]
  tags                   = { Name = "${var.project}-${each.key}" }
}

resource "aws_route53_record" "latency" {
  provider        = aws.us_east_1
  for_each        = local.viewer_nodes
  zone_id         = var.hosted_zone_id
  name            = var.domain
  type            = "A"
  ttl             = 30
  set_identifier  = each.key
  health_check_id = aws_route53_health_check.region[each.key].id
  records         = [for id in each.value : local.all_nodes[id].public_ip]
  latency_routing_policy {
    region = each.key
  }
}

resource "aws_route53_record" "node" {
  provider = aws.us_east_1
  for_each = local.all_nodes
  zone_id  = var.hosted_zone_id
  name     = "${each.key}.${var.domain}"
  type     = "A"
  ttl      = 60
  records  = [each.value.public_ip]
}

locals {
  all_nodes = merge([for r, m in local.region_modules : m.nodes]...)

  # Per region, the nodes DNS sends its viewers to (steering.origin_viewers).
  viewer_nodes = {
    for r in local.regions_used : r => [
      for id, n in local.all_nodes : id if n.region == r && (n.role == "edge" ||
        var.origin_viewers == "always" ||
      (var.origin_viewers == "own_region" && !contains(var.edge_regions, r)))
    ] if contains(var.edge_regions, r) || var.origin_viewers != "never"
  }
}
