"""The providers' inventory (supply): the services organisations offer, per need category,
target group and social area, kept current by planners and — through inventory rounds — by the
organisations themselves; and supply beside expressed and measured need per area."""
