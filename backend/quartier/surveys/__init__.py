"""Needs-assessment surveys: definitions (schemas, definition), responses, results (services),
the JSON API (controllers) and the demo survey (demo)."""
