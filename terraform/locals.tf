locals {
  tags = {
    "lectern:project" = var.project
  }

  # Coordinates for steering (DESIGN.md section 9, regions:).
  region_coords = {
    "eu-central-1"   = { lat = 50.1, lon = 8.7 }
    "us-east-1"      = { lat = 39.0, lon = -77.5 }
    "us-west-2"      = { lat = 45.8, lon = -119.7 }
    "ap-southeast-2" = { lat = -33.9, lon = 151.2 }
  }

  regions_used = distinct(concat([var.origin_region], var.edge_regions))

  # VPC address space per region: disjoint, so regions could be peered.
  vpc_cidrs = {
    "eu-central-1"   = "10.10.0.0/16"
    "us-east-1"      = "10.20.0.0/16"
    "us-west-2"      = "10.30.0.0/16"
    "ap-southeast-2" = "10.40.0.0/16"
  }

  regions_yaml = join("\n", [for r in local.regions_used :
    "  - {name: ${r}, lat: ${local.region_coords[r].lat}, lon: ${local.region_coords[r].lon}}"
  ])

  # Per-region settings handed to modules/region and modules/nats.
  region_settings = {
    for r in local.regions_used : r => {
      vpc_cidr = local.vpc_cidrs[r]
      origins  = r == var.origin_region ? 1 : 0
      edges    = contains(var.edge_regions, r) ? var.edges_per_region : 0
    }
  }
}
