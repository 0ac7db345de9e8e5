"""The social report (Sozialbericht) of one cycle of a planning process: assembled from what is
recorded (mandate, needs, indicators, goals, measures, delivery and evaluation) beside the
editorial sections planners write, released by a planner and then public (issue #11 §4)."""
