"""The bottom layer: settings, the domain model and text utilities. Imports nothing of the project."""
