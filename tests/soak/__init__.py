"""Long-running reliability scripts (soak, rotation + SIGKILL stress): not run in CI."""
