from . import dossier_file
from . import verify
from . import portal
from . import progress
from . import oversight
