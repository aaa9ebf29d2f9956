# Third-party libraries: Debian 12 packages found with pkg-config
# (TOOLCHAIN.md).  Each becomes an IMPORTED target PkgConfig::<NAME>.
find_package(PkgConfig REQUIRED)
find_package(Threads REQUIRED)
pkg_check_modules(UV REQUIRED IMPORTED_TARGET libuv>=1.44)
pkg_check_modules(YAML REQUIRED IMPORTED_TARGET yaml-0.1)
pkg_check_modules(OPENSSL REQUIRED IMPORTED_TARGET openssl>=3.0)
pkg_check_modules(PROTOBUF_C REQUIRED IMPORTED_TARGET libprotobuf-c)
pkg_check_modules(NATS REQUIRED IMPORTED_TARGET libnats)
pkg_check_modules(SRTP REQUIRED IMPORTED_TARGET libsrtp2)
pkg_check_modules(MMDB REQUIRED IMPORTED_TARGET libmaxminddb)
pkg_check_modules(USRSCTP REQUIRED IMPORTED_TARGET usrsctp>=0.9.5)
pkg_check_modules(NICE REQUIRED IMPORTED_TARGET nice glib-2.0 gobject-2.0)

# http-parser ships no .pc file.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY http_parser REQUIRED)
add_library(lec_http_parser INTERFACE)
target_include_directories(lec_http_parser INTERFACE ${HTTP_PARSER_INCLUDE_DIR})
target_link_libraries(lec_http_parser INTERFACE ${HTTP_PARSER_LIBRARY})

if(LECTERN_TESTS)
  pkg_check_modules(CMOCKA REQUIRED IMPORTED_TARGET cmocka)
endif()
