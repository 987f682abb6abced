"""The engine: projects, model definitions, the model graph and change detection."""
