// Element types: public (a user names them), so defined in the installed header.
#pragma once

#include <fusejit/dtype.h>
