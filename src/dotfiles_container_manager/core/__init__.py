"""Runtime-agnostic core: the engine and manager interfaces, types, enums, exceptions."""
