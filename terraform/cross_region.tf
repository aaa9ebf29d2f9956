# What crosses regions: relay legs between Lectern nodes and gateways
# between NATS clusters.  Each region's security groups admit exactly the
# Elastic IPs of the other regions' nodes (not the internet).

locals {
  all_node_cidrs = distinct(flatten([for r, m in local.region_modules : [for ip in m.public_ips : "${ip}/32"]]))
  all_nats_cidrs = distinct(flatten([for r, m in local.nats_modules : [for ip in m.public_ips : "${ip}/32"]]))
}

resource "aws_vpc_security_group_ingress_rule" "relay_eu_central_1" {
  provider          = aws.eu_central_1
  for_each          = contains(local.regions_used, "eu-central-1") ? toset(local.all_node_cidrs) : toset([])
  security_group_id = local.region_modules["eu-central-1"].node_sg_id
  description       = "Relay legs from Lectern nodes"
  ip_protocol       = "udp"
  from_port         = var.relay_port
  to_port           = var.relay_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "relay_us_east_1" {
  provider          = aws.us_east_1
  for_each          = contains(local.regions_used, "us-east-1") ? toset(local.all_node_cidrs) : toset([])
  security_group_id = local.region_modules["us-east-1"].node_sg_id
  description       = "Relay legs from Lectern nodes"
  ip_protocol       = "udp"
  from_port         = var.relay_port
  to_port           = var.relay_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "relay_us_west_2" {
  provider          = aws.us_west_2
  for_each          = contains(local.regions_used, "us-west-2") ? toset(local.all_node_cidrs) : toset([])
  security_group_id = local.region_modules["us-west-2"].node_sg_id
  description       = "Relay legs from Lectern nodes"
  ip_protocol       = "udp"
  from_port         = var.relay_port
  to_port           = var.relay_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "relay_ap_southeast_2" {
  provider          = aws.ap_southeast_2
  for_each          = contains(local.regions_used, "ap-southeast-2") ? toset(local.all_node_cidrs) : toset([])
  security_group_id = local.region_modules["ap-southeast-2"].node_sg_id
  description       = "Relay legs from Lectern nodes"
  ip_protocol       = "udp"
  from_port         = var.relay_port
  to_port           = var.relay_port
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "gateway_eu_central_1" {
  provider          = aws.eu_central_1
  for_each          = contains(local.regions_used, "eu-central-1") ? toset(local.all_nats_cidrs) : toset([])
  security_group_id = local.nats_modules["eu-central-1"].sg_id
  description       = "NATS gateways from other regions"
  ip_protocol       = "tcp"
  from_port         = 7222
  to_port           = 7222
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "gateway_us_east_1" {
  provider          = aws.us_east_1
  for_each          = contains(local.regions_used, "us-east-1") ? toset(local.all_nats_cidrs) : toset([])
  security_group_id = local.nats_modules["us-east-1"].sg_id
  description       = "NATS gateways from other regions"
  ip_protocol       = "tcp"
  from_port         = 7222
  to_port           = 7222
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "gateway_us_west_2" {
  provider          = aws.us_west_2
  for_each          = contains(local.regions_used, "us-west-2") ? toset(local.all_nats_cidrs) : toset([])
  security_group_id = local.nats_modules["us-west-2"].sg_id
  description       = "NATS gateways from other regions"
  ip_protocol       = "tcp"
  from_port         = 7222
  to_port           = 7222
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_ingress_rule" "gateway_ap_southeast_2" {
  provider          = aws.ap_southeast_2
  for_each          = contains(local.regions_used, "ap-southeast-2") ? toset(local.all_nats_cidrs) : toset([])
  security_group_id = local.nats_modules["ap-southeast-2"].sg_id
  description       = "NATS gateways from other regions"
  ip_protocol       = "tcp"
  from_port         = 7222
  to_port           = 7222
  cidr_ipv4         = each.value
}
