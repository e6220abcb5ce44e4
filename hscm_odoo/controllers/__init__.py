from . import dossier_file
