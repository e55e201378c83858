"""`aksdiag fleet`: every private cluster the identity can read, judged at once from Azure Resource Graph.

The flow (engine): the subscriptions the identity can see (GET /subscriptions) → a few Resource Graph queries
(queries: the clusters, the resources their DNS and egress paths depend on; paged with `$skipToken`, batched by
subscription) → one index of every row (index) → GETs of only what Resource Graph does not index (a zone's record
sets, a ruleset's forwarding rules) → one AzureContext per cluster (assemble), judged by the same probes `check`
runs (the management-plane ones: Probe.commands has "fleet") → every error finding confirmed by GETs of what its
cluster's context rests on (Resource Graph can lag ARM by minutes), and judged again from what the GETs said →
the clusters × findings matrix, grouped by shared cause (grouping) → a FleetReport (model), shown by
aksdiag.render.fleet and the TUI's fleet view.
"""
