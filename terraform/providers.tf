# One aliased aws provider per region Lectern can run in.  To add a region:
# a provider here, its coordinates in locals.tf, and a module pair in
# main.tf.  Route53 is global; it uses the us-east-1 provider.
provider "aws" {
  alias  = "eu_central_1"
  region = "eu-central-1"
  default_tags { tags = local.tags }
}

provider "aws" {
  alias  = "us_east_1"
  region = "us-east-1"
  default_tags { tags = local.tags }
}

provider "aws" {
  alias  = "us_west_2"
  region = "us-west-2"
  default_tags { tags = local.tags }
}

provider "aws" {
  alias  = "ap_southeast_2"
  region = "ap-southeast-2"
  default_tags { tags = local.tags }
}
