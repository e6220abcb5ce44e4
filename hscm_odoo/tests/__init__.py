from . import test_access_rights
from . import test_i18n
from . import test_login_landing
from . import test_organisation
from . import test_school_calendar
from . import test_tour
from . import test_demo
