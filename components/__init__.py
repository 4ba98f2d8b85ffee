"""dougong's built-in components. Each is found through the ``dougong.components`` entry
points exactly like a third-party package, and may be left out of any blueprint."""
