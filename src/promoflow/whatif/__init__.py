"""What-if for planners: a draft promotion forecast under other terms."""
