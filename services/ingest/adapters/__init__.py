"""One adapter per CRM webhook format: authenticate, parse, map to canonical events."""
