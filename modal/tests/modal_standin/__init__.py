"""A local stand-in of Modal's control plane that the real pinned `modal` client (CLI and SDK) talks to in tests."""
