from . import dossier_file
from . import verify
