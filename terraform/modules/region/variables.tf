variable "project" {
  description = "Name prefix for resources."
  type        = string
}

variable "region" {
  description = "The AWS region this module deploys to (must match the provider passed in)."
  type        = string
}

variable "vpc_cidr" {
  description = "Address space of the region's VPC."
  type        = string
  validation {
    condition     = can(cidrhost(var.vpc_cidr, 0))
    error_message = "vpc_cidr must be a CIDR block."
  }
}

variable "origins" {
  description = "Origin instances in this region (0 or 1)."
  type        = number
  validation {
    condition     = var.origins >= 0 && var.origins <= 1
    error_message = "origins is 0 or 1."
  }
}

variable "edges" {
  description = "Edge instances in this region."
  type        = number
  validation {
    condition     = var.edges >= 0 && var.edges <= 20
    error_message = "edges is between 0 and 20."
  }
}

variable "instance_type" {
  description = "EC2 instance type of the nodes."
  type        = string
}

variable "ssh_key_name" {
  description = "EC2 key pair for SSH, or empty."
  type        = string
  default     = ""
}

variable "admin_cidrs" {
  description = "CIDR blocks allowed to SSH and the private HTTP port (metrics)."
  type        = list(string)
  default     = []
}

variable "domain" {
  description = "The viewers' DNS name; nodes are <node-id>.<domain>."
  type        = string
}

variable "git_url" {
  description = "Lectern's source for cloud-init."
  type        = string
}

variable "git_ref" {
  description = "Lectern's tag or branch for cloud-init."
  type        = string
}

variable "media_port_range" {
  description = "UDP media ports, [first, last]."
  type        = list(number)
}

variable "relay_port" {
  description = "UDP port of relay legs."
  type        = number
}

variable "regions_yaml" {
  description = "The regions: list of the node config, pre-rendered."
  type        = string
}

variable "prewarm_regions" {
  description = "Regions that get every new stream at once (the origin's relay.prewarm)."
  type        = list(string)
  default     = []
}

variable "nats_urls" {
  description = "The region's NATS client URLs."
  type        = list(string)
}

variable "nats_creds" {
  description = "NATS credentials file contents, or empty."
  type        = string
  default     = ""
  sensitive   = true
}

variable "tls_cert" {
  description = "PEM certificate (chain) for *.<domain> and <domain>, served by nginx on 443."
  type        = string
  default     = ""
  sensitive   = true
}

variable "tls_key" {
  description = "PEM private key of tls_cert."
  type        = string
  default     = ""
  sensitive   = true
}

variable "cluster_trust_key" {
  description = "The cluster's public key (cluster.trust_key)."
  type        = string
}

variable "identities_dir" {
  description = "Absolute path of the folder with <node>.identity files (cluster.identity_file)."
  type        = string
}

variable "origin_viewers" {
  description = "steering.origin_viewers for the nodes (own_region, never or always)."
  type        = string
  default     = "own_region"
}

variable "admin_tokens" {
  description = "Admin API bearer tokens (auth.admin_tokens_file); empty: the admin API is off."
  type        = list(string)
  default     = []
  sensitive   = true
}

variable "publish_tokens" {
  description = "WHIP bearer tokens accepted by origins (auth.publish_tokens_file)."
  type        = list(string)
  default     = []
  sensitive   = true
}
