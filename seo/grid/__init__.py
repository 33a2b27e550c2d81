"""Geo-grid map-pack tracking: a maps search at every point of a grid over each town, scored and
drawn as heatmaps (`seo grid`). See README, "Geo-grid map-pack tracking"."""
