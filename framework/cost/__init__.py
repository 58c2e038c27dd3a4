"""`onboard cost`: monthly AWS cost estimates per source and the platform's idle cost (framework.cost.model)."""
