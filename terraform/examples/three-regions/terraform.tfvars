# The three-region example: origin in Frankfurt, edges in Virginia and
# Sydney.  From terraform/:
#   terraform init
#   terraform apply -var-file=examples/three-regions/terraform.tfvars \
#     -var "tls_cert=$(cat fullchain.pem)" -var "tls_key=$(cat privkey.pem)" \
#     -var 'publish_tokens=["<a long random token>"]'
project          = "lectern"
# From `lectern-origin --new-cluster-key cluster.key`; identities for each
# node in ./identities (terraform/README.md, "Node identities").
cluster_trust_key = "1caaf176acd867af4eb89704126613b206f2b07ca1afeebbc4bf3bcb2ffe773c"
origin_region    = "eu-central-1"
edge_regions     = ["us-east-1", "ap-southeast-2"]
edges_per_region = 2
instance_type    = "c6in.xlarge"
domain           = "live.example.com"
hosted_zone_id   = "Z0123456789EXAMPLE"
admin_cidrs      = ["198.51.100.0/24"]
git_url          = "https://github.com/lectern/lectern.git"
git_ref          = "main"
