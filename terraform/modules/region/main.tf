# One region: a VPC with public subnets in two zones, the nodes' security
# group, and the origin and edge instances, each with an Elastic IP (media
# needs a public address; ICE advertises it through ice.public_ip).

data "aws_availability_zones" "zones" {
  state = "available"
}

data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"] # Debian
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
}

locals {
  name  = "${var.project}-${var.region}"
  zones = slice(data.aws_availability_zones.zones.names, 0, 2)
  nodes = merge(
    { for i in range(var.origins) : "origin-${var.region}-${i + 1}" => { role = "origin", index = i } },
    { for i in range(var.edges) : "edge-${var.region}-${i + 1}" => { role = "edge", index = i } },
  )
}

resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_hostnames = true
  tags                 = { Name = local.name }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
  tags   = { Name = local.name }
}

resource "aws_subnet" "public" {
  count                   = length(local.zones)
  vpc_id                  = aws_vpc.main.id
  availability_zone       = local.zones[count.index]
  cidr_block              = cidrsubnet(var.vpc_cidr, 8, count.index)
  map_public_ip_on_launch = false
  tags                    = { Name = "${local.name}-${local.zones[count.index]}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
  tags = { Name = local.name }
}

resource "aws_route_table_association" "public" {
  count          = length(aws_subnet.public)
  subnet_id      = aws_subnet.public[count.index].id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "node" {
  name        = "${local.name}-node"
  description = "Lectern nodes: HTTPS and media public; relay from peers (rules in the root); private HTTP"
  vpc_id      = aws_vpc.main.id
  tags        = { Name = "${local.name}-node" }
}

resource "aws_vpc_security_group_ingress_rule" "https" {
  security_group_id = aws_security_group.node.id
  description       = "WHIP, WHEP and pages over HTTPS"
  ip_protocol       = "tcp"
  from_port         = 443
  to_port           = 443
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "media" {
  security_group_id = aws_security_group.node.id
  description       = "WebRTC media (ICE, DTLS, SRTP)"
  ip_protocol       = "udp"
  from_port         = var.media_port_range[0]
  to_port           = var.media_port_range[1]
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_vpc_security_group_ingress_rule" "private_http" {
  security_group_id = aws_security_group.node.id
  description       = "Lectern HTTP (metrics) inside the VPC"
  ip_protocol       = "tcp"
  from_port         = 8080
  to_port           = 8080
  cidr_ipv4         = var.vpc_cidr
}

resource "aws_vpc_security_group_ingress_rule" "admin" {
  for_each          = toset(var.admin_cidrs)
  security_group_id = aws_security_group.node.id
  description       = "Operators: SSH and metrics"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 8080
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.node.id
  description       = "Anything out (media, NATS, packages)"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_eip" "node" {
  for_each = local.nodes
  domain   = "vpc"
  tags     = { Name = each.key }
}

resource "aws_instance" "node" {
  for_each               = local.nodes
  ami                    = data.aws_ami.debian.id
  instance_type          = var.instance_type
  subnet_id              = aws_subnet.public[each.value.index % length(aws_subnet.public)].id
  vpc_security_group_ids = [aws_security_group.node.id]
  key_name               = var.ssh_key_name == "" ? null : var.ssh_key_name
  user_data = templatefile("${path.module}/../../../deploy/cloud-init/user-data.yaml.tftpl", {
    role       = each.value.role
    fqdn       = "${each.key}.${var.domain}"
    domain     = var.domain
    git_url    = var.git_url
    git_ref    = var.git_ref
    nats_creds = var.nats_creds
    tls_cert   = var.tls_cert
    tls_key    = var.tls_key
    publish_tokens = join("\n", var.publish_tokens)
    admin_tokens   = join("\n", var.admin_tokens)
    identity       = file("${var.identities_dir}/${each.key}.identity")
    config = templatefile("${path.module}/node.yaml.tftpl", {
      id           = each.key
      role         = each.value.role
      region       = var.region
      public_url   = "https://${each.key}.${var.domain}"
      public_ip    = aws_eip.node[each.key].public_ip
      vpc_cidr     = var.vpc_cidr
      port_first   = var.media_port_range[0]
      port_last    = var.media_port_range[1]
      relay_port   = var.relay_port
      prewarm         = each.value.role == "origin" ? join(", ", var.prewarm_regions) : ""
      nats_urls       = join(", ", var.nats_urls)
      nats_creds_path = var.nats_creds != "" ? "/etc/lectern/nats.creds" : ""
      regions_yaml    = var.regions_yaml
      trust_key       = var.cluster_trust_key
      domain          = var.domain
      origin_viewers  = var.origin_viewers
      admin_tokens_file = length(var.admin_tokens) > 0 ? "/etc/lectern/admin-tokens" : ""
    })
  })
  user_data_replace_on_change = true
  root_block_device {
    volume_size = 20
    encrypted   = true
  }
  metadata_options {
    http_tokens = "required"
  }
  tags = {
    Name           = each.key
    "lectern:role" = each.value.role
  }
}

resource "aws_eip_association" "node" {
  for_each      = local.nodes
  instance_id   = aws_instance.node[each.key].id
  allocation_id = aws_eip.node[each.key].id
}
