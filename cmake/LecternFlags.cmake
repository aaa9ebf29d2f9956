# Compiler flags shared by every target.
set(LEC_WARNINGS
  -Wall -Wextra -Wshadow -Wpointer-arith -Wcast-qual -Wstrict-prototypes
  -Wmissing-prototypes -Wformat=2 -Wundef -Wvla -Wwrite-strings
  -Wimplicit-fallthrough -Wnull-dereference -Wdouble-promotion)
if(LECTERN_WERROR)
  list(APPEND LEC_WARNINGS -Werror)
endif()
add_compile_options(${LEC_WARNINGS})
add_compile_definitions(_POSIX_C_SOURCE=200809L _DEFAULT_SOURCE)
add_compile_definitions(LEC_VERSION="${PROJECT_VERSION}")

if(LECTERN_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer
                      -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()

if(LECTERN_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "LECTERN_FUZZ needs clang: cmake -DCMAKE_C_COMPILER=clang")
  endif()
  # Instrument everything for coverage; fuzz targets add -fsanitize=fuzzer.
  add_compile_options(-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()
