# Checks that docs/nf-api.md shows nfs/examples/flowquota.c verbatim (from its
# #include line on), so the documented example is the one that compiles and
# is tested. Run as: cmake -DDOC=... -DSRC=... -P check_doc_example.cmake
file(READ "${DOC}" doc)
file(READ "${SRC}" src)
string(FIND "${src}" "#include \"rsskey/nf.h\"" start)
if(start EQUAL -1)
  message(FATAL_ERROR "${SRC}: no '#include \"rsskey/nf.h\"' line")
endif()
string(SUBSTRING "${src}" ${start} -1 body)
string(FIND "${doc}" "${body}" found)
if(found EQUAL -1)
  message(FATAL_ERROR "${DOC} does not contain ${SRC} verbatim: copy the file's code "
                      "(from its #include line) into the 'A complete example' section")
endif()
message(STATUS "docs/nf-api.md shows ${SRC} verbatim")
