"""Cross-cutting concerns shared by every domain; nothing here imports a domain package."""
