"""Runtime implementations: ``docker`` and ``podman`` (which extends docker)."""
