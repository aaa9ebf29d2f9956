# Lectern on AWS: for each region in use, a NATS cluster (modules/nats) and
# the region's origin and edges (modules/region); then the rules that let
# regions talk (relay legs, NATS gateways) and the DNS that steers viewers
# (dns.tf).  Regions not in use get count = 0.

module "nats_eu_central_1" {
  source    = "./modules/nats"
  count     = contains(local.regions_used, "eu-central-1") ? 1 : 0
  providers = { aws = aws.eu_central_1 }

  project       = var.project
  region        = "eu-central-1"
  vpc_id        = one(module.region_eu_central_1[*].vpc_id)
  subnet_ids    = one(module.region_eu_central_1[*].subnet_ids)
  subnet_cidrs  = one(module.region_eu_central_1[*].subnet_cidrs)
  client_sg_id  = one(module.region_eu_central_1[*].node_sg_id)
  instance_type = var.nats_instance_type
  ssh_key_name  = var.ssh_key_name
  admin_cidrs   = var.admin_cidrs
  gateway_urls  = local.gateway_urls
}

module "region_eu_central_1" {
  source    = "./modules/region"
  count     = contains(local.regions_used, "eu-central-1") ? 1 : 0
  providers = { aws = aws.eu_central_1 }

  project          = var.project
  region           = "eu-central-1"
  vpc_cidr         = local.region_settings["eu-central-1"].vpc_cidr
  origins          = local.region_settings["eu-central-1"].origins
  edges            = local.region_settings["eu-central-1"].edges
  instance_type    = var.instance_type
  ssh_key_name     = var.ssh_key_name
  admin_cidrs      = var.admin_cidrs
  domain           = var.domain
  git_url          = var.git_url
  git_ref          = var.git_ref
  media_port_range = var.media_port_range
  relay_port       = var.relay_port
  regions_yaml     = local.regions_yaml
  prewarm_regions  = var.edge_regions
  nats_urls        = lookup(local.nats_urls, "eu-central-1", [])
  nats_creds       = var.nats_creds
  tls_cert         = var.tls_cert
  tls_key          = var.tls_key
  publish_tokens   = var.publish_tokens
  admin_tokens     = var.admin_tokens
  origin_viewers   = var.origin_viewers
  cluster_trust_key = var.cluster_trust_key
  identities_dir   = abspath(var.identities_dir)
}

module "nats_us_east_1" {
  source    = "./modules/nats"
  count     = contains(local.regions_used, "us-east-1") ? 1 : 0
  providers = { aws = aws.us_east_1 }

  project       = var.project
  region        = "us-east-1"
  vpc_id        = one(module.region_us_east_1[*].vpc_id)
  subnet_ids    = one(module.region_us_east_1[*].subnet_ids)
  subnet_cidrs  = one(module.region_us_east_1[*].subnet_cidrs)
  client_sg_id  = one(module.region_us_east_1[*].node_sg_id)
  instance_type = var.nats_instance_type
  ssh_key_name  = var.ssh_key_name
  admin_cidrs   = var.admin_cidrs
  gateway_urls  = local.gateway_urls
}

module "region_us_east_1" {
  source    = "./modules/region"
  count     = contains(local.regions_used, "us-east-1") ? 1 : 0
  providers = { aws = aws.us_east_1 }

  project          = var.project
  region           = "us-east-1"
  vpc_cidr         = local.region_settings["us-east-1"].vpc_cidr
  origins          = local.region_settings["us-east-1"].origins
  edges            = local.region_settings["us-east-1"].edges
  instance_type    = var.instance_type
  ssh_key_name     = var.ssh_key_name
  admin_cidrs      = var.admin_cidrs
  domain           = var.domain
  git_url          = var.git_url
  git_ref          = var.git_ref
  media_port_range = var.media_port_range
  relay_port       = var.relay_port
  regions_yaml     = local.regions_yaml
  prewarm_regions  = var.edge_regions
  nats_urls        = lookup(local.nats_urls, "us-east-1", [])
  nats_creds       = var.nats_creds
  tls_cert         = var.tls_cert
  tls_key          = var.tls_key
  publish_tokens   = var.publish_tokens
  admin_tokens     = var.admin_tokens
  origin_viewers   = var.origin_viewers
  cluster_trust_key = var.cluster_trust_key
  identities_dir   = abspath(var.identities_dir)
}

module "nats_us_west_2" {
  source    = "./modules/nats"
  count     = contains(local.regions_used, "us-west-2") ? 1 : 0
  providers = { aws = aws.us_west_2 }

  project       = var.project
  region        = "us-west-2"
  vpc_id        = one(module.region_us_west_2[*].vpc_id)
  subnet_ids    = one(module.region_us_west_2[*].subnet_ids)
  subnet_cidrs  = one(module.region_us_west_2[*].subnet_cidrs)
  client_sg_id  = one(module.region_us_west_2[*].node_sg_id)
  instance_type = var.nats_instance_type
  ssh_key_name  = var.ssh_key_name
  admin_cidrs   = var.admin_cidrs
  gateway_urls  = local.gateway_urls
}

module "region_us_west_2" {
  source    = "./modules/region"
  count     = contains(local.regions_used, "us-west-2") ? 1 : 0
  providers = { aws = aws.us_west_2 }

  project          = var.project
  region           = "us-west-2"
  vpc_cidr         = local.region_settings["us-west-2"].vpc_cidr
  origins          = local.region_settings["us-west-2"].origins
  edges            = local.region_settings["us-west-2"].edges
  instance_type    = var.instance_type
  ssh_key_name     = var.ssh_key_name
  admin_cidrs      = var.admin_cidrs
  domain           = var.domain
  git_url          = var.git_url
  git_ref          = var.git_ref
  media_port_range = var.media_port_range
  relay_port       = var.relay_port
  regions_yaml     = local.regions_yaml
  prewarm_regions  = var.edge_regions
  nats_urls        = lookup(local.nats_urls, "us-west-2", [])
  nats_creds       = var.nats_creds
  tls_cert         = var.tls_cert
  tls_key          = var.tls_key
  publish_tokens   = var.publish_tokens
  admin_tokens     = var.admin_tokens
  origin_viewers   = var.origin_viewers
  cluster_trust_key = var.cluster_trust_key
  identities_dir   = abspath(var.identities_dir)
}

module "nats_ap_southeast_2" {
  source    = "./modules/nats"
  count     = contains(local.regions_used, "ap-southeast-2") ? 1 : 0
  providers = { aws = aws.ap_southeast_2 }

  project       = var.project
  region        = "ap-southeast-2"
  vpc_id        = one(module.region_ap_southeast_2[*].vpc_id)
  subnet_ids    = one(module.region_ap_southeast_2[*].subnet_ids)
  subnet_cidrs  = one(module.region_ap_southeast_2[*].subnet_cidrs)
  client_sg_id  = one(module.region_ap_southeast_2[*].node_sg_id)
  instance_type = var.nats_instance_type
  ssh_key_name  = var.ssh_key_name
  admin_cidrs   = var.admin_cidrs
  gateway_urls  = local.gateway_urls
}

module "region_ap_southeast_2" {
  source    = "./modules/region"
  count     = contains(local.regions_used, "ap-southeast-2") ? 1 : 0
  providers = { aws = aws.ap_southeast_2 }

  project          = var.project
  region           = "ap-southeast-2"
  vpc_cidr         = local.region_settings["ap-southeast-2"].vpc_cidr
  origins          = local.region_settings["ap-southeast-2"].origins
  edges            = local.region_settings["ap-southeast-2"].edges
  instance_type    = var.instance_type
  ssh_key_name     = var.ssh_key_name
  admin_cidrs      = var.admin_cidrs
  domain           = var.domain
  git_url          = var.git_url
  git_ref          = var.git_ref
  media_port_range = var.media_port_range
  relay_port       = var.relay_port
  regions_yaml     = local.regions_yaml
  prewarm_regions  = var.edge_regions
  nats_urls        = lookup(local.nats_urls, "ap-southeast-2", [])
  nats_creds       = var.nats_creds
  tls_cert         = var.tls_cert
  tls_key          = var.tls_key
  publish_tokens   = var.publish_tokens
  admin_tokens     = var.admin_tokens
  origin_viewers   = var.origin_viewers
  cluster_trust_key = var.cluster_trust_key
  identities_dir   = abspath(var.identities_dir)
}

locals {
  # Every region's modules, keyed by region, for the cross-region parts.
  region_modules = merge(
    { for m in module.region_eu_central_1 : "eu-central-1" => m },
    { for m in module.region_us_east_1 : "us-east-1" => m },
    { for m in module.region_us_west_2 : "us-west-2" => m },
    { for m in module.region_ap_southeast_2 : "ap-southeast-2" => m },
  )
  nats_modules = merge(
    { for m in module.nats_eu_central_1 : "eu-central-1" => m },
    { for m in module.nats_us_east_1 : "us-east-1" => m },
    { for m in module.nats_us_west_2 : "us-west-2" => m },
    { for m in module.nats_ap_southeast_2 : "ap-southeast-2" => m },
  )

  # Nodes reach their own region's NATS over private addresses; NATS
  # regions reach each other's gateways over Elastic IPs (TLS).
  nats_urls    = { for r, m in local.nats_modules : r => m.client_urls }
  gateway_urls = { for r, m in local.nats_modules : r => m.gateway_urls }
}
