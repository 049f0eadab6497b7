# The learner's Jupyter Server settings that depend on the machine (the fixed ones are in jupyter_server_config.json).
# Jupyter reads this file from every folder on JUPYTER_CONFIG_PATH: ../start puts this folder there for `make lab`,
# conda and Binder.
import os

# Jupyter refuses to start as root unless told it is on purpose. A container (Docker, a workshop VM, a conda image)
# often runs as root and has no other user: allow it there, as `jupyter lab --allow-root` would.
if hasattr(os, "geteuid") and os.geteuid() == 0:
    c.ServerApp.allow_root = True  # noqa: F821 (c is the configuration object Jupyter hands to this file)
