"""What every entry point shares: settings, the composition root, HTTP problem responses."""
