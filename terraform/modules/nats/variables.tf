variable "project" {
  description = "Name prefix for resources."
  type        = string
}

variable "region" {
  description = "The AWS region (the NATS cluster and gateway name)."
  type        = string
}

variable "vpc_id" {
  description = "The region's VPC (from modules/region)."
  type        = string
}

variable "subnet_ids" {
  description = "Subnets to spread the three servers over."
  type        = list(string)
  validation {
    condition     = length(var.subnet_ids) > 0
    error_message = "subnet_ids needs at least one subnet."
  }
}

variable "subnet_cidrs" {
  description = "CIDR blocks of subnet_ids, in the same order (servers get fixed addresses in them)."
  type        = list(string)
}

variable "client_sg_id" {
  description = "The Lectern nodes' security group, allowed to connect on 4222."
  type        = string
}

variable "instance_type" {
  description = "EC2 instance type of the NATS servers."
  type        = string
}

variable "ssh_key_name" {
  description = "EC2 key pair for SSH, or empty."
  type        = string
  default     = ""
}

variable "admin_cidrs" {
  description = "CIDR blocks allowed to SSH and to the monitoring port."
  type        = list(string)
  default     = []
}

variable "gateway_urls" {
  description = "Every region's gateway URLs (region => list of nats://ip:7222), this one included."
  type        = map(list(string))
}

variable "servers" {
  description = "Servers in the cluster (3 survives one loss)."
  type        = number
  default     = 3
  validation {
    condition     = contains([1, 3, 5], var.servers)
    error_message = "servers is 1, 3 or 5."
  }
}
