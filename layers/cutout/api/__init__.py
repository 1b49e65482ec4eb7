"""The HTTP edge of the library: events in, proxy responses out, errors mapped in one place."""
