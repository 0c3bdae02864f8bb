"""The bundled models: ``models/*.yaml`` ships inside the package as ``diffdx.models``."""
