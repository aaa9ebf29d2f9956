# One region's NATS cluster: `servers` instances running Debian's
# nats-server with deploy/nats/nats-server.conf as it is, the environment
# and gateways.conf rendered here.  Clients (Lectern nodes) connect over
# private addresses; gateways to other regions use the Elastic IPs, with
# TLS, admitted by rules in the root module.

data "aws_ami" "debian" {
  most_recent = true
  owners      = ["136693071363"] # Debian
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
}

locals {
  name  = "${var.project}-${var.region}-nats"
  names = [for i in range(var.servers) : "nats-${i + 1}.${var.region}"]
  # Fixed private addresses, so each server's routes can name the others
  # before any of them exists.
  private_ips = [for i in range(var.servers) :
    cidrhost(var.subnet_cidrs[i % length(var.subnet_cidrs)], 10 + i)
  ]
  routes = [for ip in local.private_ips : "nats-route://${ip}:6222"]
}

resource "aws_security_group" "nats" {
  name        = local.name
  description = "NATS: clients from Lectern nodes, routes inside the cluster, gateways (root rules)"
  vpc_id      = var.vpc_id
  tags        = { Name = local.name }
}

resource "aws_vpc_security_group_ingress_rule" "clients" {
  security_group_id            = aws_security_group.nats.id
  description                  = "NATS clients: Lectern nodes"
  ip_protocol                  = "tcp"
  from_port                    = 4222
  to_port                      = 4222
  referenced_security_group_id = var.client_sg_id
}

resource "aws_vpc_security_group_ingress_rule" "routes" {
  security_group_id            = aws_security_group.nats.id
  description                  = "Cluster routes between this region's servers"
  ip_protocol                  = "tcp"
  from_port                    = 6222
  to_port                      = 6222
  referenced_security_group_id = aws_security_group.nats.id
}

resource "aws_vpc_security_group_ingress_rule" "admin" {
  for_each          = toset(var.admin_cidrs)
  security_group_id = aws_security_group.nats.id
  description       = "Operators: SSH and the exporter"
  ip_protocol       = "tcp"
  from_port         = 22
  to_port           = 7777
  cidr_ipv4         = each.value
}

resource "aws_vpc_security_group_egress_rule" "all" {
  security_group_id = aws_security_group.nats.id
  description       = "Anything out (gateways, packages)"
  ip_protocol       = "-1"
  cidr_ipv4         = "0.0.0.0/0"
}

resource "aws_eip" "nats" {
  count  = var.servers
  domain = "vpc"
  tags   = { Name = local.names[count.index] }
}

resource "aws_instance" "nats" {
  count                  = var.servers
  ami                    = data.aws_ami.debian.id
  instance_type          = var.instance_type
  subnet_id              = var.subnet_ids[count.index % length(var.subnet_ids)]
  private_ip             = local.private_ips[count.index]
  vpc_security_group_ids = [aws_security_group.nats.id]
  key_name               = var.ssh_key_name == "" ? null : var.ssh_key_name
  user_data = templatefile("${path.module}/user-data.yaml.tftpl", {
    server_name = local.names[count.index]
    region      = var.region
    routes      = local.routes
    config      = file("${path.module}/../../../deploy/nats/nats-server.conf")
    gateways = join("\n", [for r, urls in var.gateway_urls :
      "  {name: \"${r}\", urls: [${join(", ", [for u in urls : "\"${u}\""])}]}"
    ])
  })
  user_data_replace_on_change = false
  metadata_options {
    http_tokens = "required"
  }
  tags = {
    Name           = local.names[count.index]
    "lectern:role" = "nats"
  }
}

resource "aws_eip_association" "nats" {
  count         = var.servers
  instance_id   = aws_instance.nats[count.index].id
  allocation_id = aws_eip.nats[count.index].id
}
