variable "project" {
  description = "Name prefix for every resource and the lectern:project tag."
  type        = string
  default     = "lectern"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,20}$", var.project))
    error_message = "project: 2-21 characters of a-z, 0-9 and -, starting with a letter."
  }
}

variable "origin_region" {
  description = "The region of the origin (where teachers publish)."
  type        = string
  default     = "eu-central-1"
  validation {
    condition     = contains(["eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2"], var.origin_region)
    error_message = "origin_region must be one of eu-central-1, us-east-1, us-west-2, ap-southeast-2."
  }
}

variable "edge_regions" {
  description = "Regions that get edges (the origin's region may be one of them)."
  type        = list(string)
  default     = ["us-east-1", "ap-southeast-2"]
  validation {
    condition     = length(var.edge_regions) > 0 && alltrue([for r in var.edge_regions : contains(["eu-central-1", "us-east-1", "us-west-2", "ap-southeast-2"], r)])
    error_message = "edge_regions: one or more of eu-central-1, us-east-1, us-west-2, ap-southeast-2."
  }
}

variable "edges_per_region" {
  description = "Edge instances in each edge region."
  type        = number
  default     = 2
  validation {
    condition     = var.edges_per_region >= 1 && var.edges_per_region <= 20
    error_message = "edges_per_region must be between 1 and 20."
  }
}

variable "instance_type" {
  description = "EC2 instance type of origins and edges (media needs network bandwidth: c6in or c7gn)."
  type        = string
  default     = "c6in.xlarge"
}

variable "nats_instance_type" {
  description = "EC2 instance type of the NATS servers (three per region)."
  type        = string
  default     = "t3.small"
}

variable "domain" {
  description = "The DNS name viewers use, e.g. live.example.com; latency records are made under it."
  type        = string
  validation {
    condition     = can(regex("^([a-z0-9-]+\\.)+[a-z]{2,}$", var.domain))
    error_message = "domain must be a DNS name such as live.example.com."
  }
}

variable "hosted_zone_id" {
  description = "The Route53 hosted zone that holds var.domain."
  type        = string
  validation {
    condition     = can(regex("^Z[A-Z0-9]{4,32}$", var.hosted_zone_id))
    error_message = "hosted_zone_id looks like Z0123456789ABCDEFGHIJ."
  }
}

variable "admin_cidrs" {
  description = "CIDR blocks allowed to reach SSH and the metrics port (operators, Prometheus)."
  type        = list(string)
  default     = []
  validation {
    condition     = alltrue([for c in var.admin_cidrs : can(cidrhost(c, 0))])
    error_message = "admin_cidrs must be CIDR blocks such as 198.51.100.0/24."
  }
}

variable "ssh_key_name" {
  description = "An EC2 key pair name for SSH, or empty for none (use SSM)."
  type        = string
  default     = ""
}

variable "git_url" {
  description = "Where cloud-init fetches Lectern's source from."
  type        = string
}

variable "git_ref" {
  description = "The tag or branch of Lectern that cloud-init builds."
  type        = string
  default     = "main"
}

variable "media_port_range" {
  description = "UDP ports for WebRTC media (ice.port_range), as [first, last]."
  type        = list(number)
  default     = [20000, 29999]
  validation {
    condition     = length(var.media_port_range) == 2 && var.media_port_range[0] >= 1024 && var.media_port_range[0] <= var.media_port_range[1] && var.media_port_range[1] <= 65535
    error_message = "media_port_range is [first, last] with 1024 <= first <= last <= 65535."
  }
}

variable "relay_port" {
  description = "UDP port of cascade legs (relay.listen)."
  type        = number
  default     = 7000
}

variable "nats_creds" {
  description = "Contents of the NATS credentials file the nodes use (from nsc), or empty."
  type        = string
  default     = ""
  sensitive   = true
}

variable "tls_cert" {
  description = "PEM certificate chain for <domain> and *.<domain>, served on 443 by each node's nginx."
  type        = string
  sensitive   = true
}

variable "tls_key" {
  description = "PEM private key of tls_cert."
  type        = string
  sensitive   = true
}

variable "cluster_trust_key" {
  description = "The cluster's public key (cluster.trust_key), printed by `lectern-origin --new-cluster-key FILE`; FILE stays with the operator."
  type        = string
  validation {
    condition     = can(regex("^[0-9a-f]{64}$", var.cluster_trust_key))
    error_message = "cluster_trust_key: 64 lowercase hex digits."
  }
}

variable "identities_dir" {
  description = "A folder with one identity file per node, <node>.identity, issued with `lectern-origin --issue-identity <node> --cluster-key FILE --out <dir>/<node>.identity` (node names: origin-<region>-1, edge-<region>-<n>)."
  type        = string
  default     = "identities"
}

variable "origin_viewers" {
  description = "Which viewers the origin serves (steering.origin_viewers): own_region (its own region's while no edge there has room; its region then gets a DNS record), never (ingest only while any edge exists) or always."
  type        = string
  default     = "own_region"
  validation {
    condition     = contains(["own_region", "never", "always"], var.origin_viewers)
    error_message = "origin_viewers: own_region, never or always."
  }
}

variable "admin_tokens" {
  description = "Bearer tokens for the admin API and lectern-ctl (auth.admin_tokens_file on every node); empty: the admin API is off."
  type        = list(string)
  default     = []
  sensitive   = true
  validation {
    condition     = alltrue([for t in var.admin_tokens : length(t) >= 16])
    error_message = "admin_tokens: tokens of 16 or more characters."
  }
}

variable "publish_tokens" {
  description = "WHIP bearer tokens that teachers' encoders present to the origin."
  type        = list(string)
  sensitive   = true
  validation {
    condition     = length(var.publish_tokens) > 0 && alltrue([for t in var.publish_tokens : length(t) >= 16])
    error_message = "publish_tokens: at least one token of 16 or more characters."
  }
}
