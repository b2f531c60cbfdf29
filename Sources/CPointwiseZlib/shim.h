// The system zlib (Debian: zlib1g-dev), for PNG's compressed image data.
#include <zlib.h>
