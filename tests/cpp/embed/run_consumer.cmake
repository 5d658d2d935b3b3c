# Builds and runs an outside consumer of scalinglaw, as CTest's embed_* tests (cmake -P):
#   MODE=install       configure, build and install scalinglaw to a fresh prefix, build examples/embed
#                      against it with find_package, run it on the built-in data with Epoch's exclusion
#                      and check its JSON (tests/test_embed.py compares the numbers with Python's fit).
#   MODE=subdirectory  build tests/cpp/embed, which add_subdirectory()s the source tree, and run it.
# Also: SOURCE_DIR, WORK_DIR (emptied first), GENERATOR, MAKE_PROGRAM, CXX_COMPILER, CXX_FLAGS (e.g.
# the sanitizers' flags, for every inner build).
cmake_minimum_required(VERSION 3.19)  # string(JSON), COMMAND_ERROR_IS_FATAL

function(run)
  list(JOIN ARGN " " shown)
  message(STATUS "+ ${shown}")
  execute_process(COMMAND ${ARGN} COMMAND_ERROR_IS_FATAL ANY)
endfunction()

# Configures `source` into `build` with the outer build's toolchain, then builds it.
function(configure_and_build source build)
  set(toolchain -G "${GENERATOR}" "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}"
      "-DCMAKE_CXX_FLAGS=${CXX_FLAGS}" "-DCMAKE_EXE_LINKER_FLAGS=${CXX_FLAGS}")
  if(MAKE_PROGRAM)
    list(APPEND toolchain "-DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM}")
  endif()
  run("${CMAKE_COMMAND}" -S "${source}" -B "${build}" ${toolchain} ${ARGN})
  run("${CMAKE_COMMAND}" --build "${build}" --config Release --parallel 2)
endfunction()

function(expect actual expected what)
  if(NOT "${actual}" STREQUAL "${expected}")
    message(FATAL_ERROR "${what}: expected '${expected}', got '${actual}'")
  endif()
endfunction()

file(REMOVE_RECURSE "${WORK_DIR}")

if(MODE STREQUAL "install")
  set(prefix "${WORK_DIR}/prefix")
  # Only the core library: no tests, no Python (the defaults of a top-level configure).
  configure_and_build("${SOURCE_DIR}" "${WORK_DIR}/scalinglaw" -DCMAKE_BUILD_TYPE=Release)
  run("${CMAKE_COMMAND}" --install "${WORK_DIR}/scalinglaw" --config Release --prefix "${prefix}")
  if(EXISTS "${prefix}/include/Eigen" OR EXISTS "${prefix}/include/eigen3")
    message(FATAL_ERROR "Eigen was installed: it must stay private")
  endif()
  configure_and_build("${SOURCE_DIR}/examples/embed" "${WORK_DIR}/example"
                      -DCMAKE_BUILD_TYPE=Release "-DCMAKE_PREFIX_PATH=${prefix}")

  find_program(fit_csv fit_csv PATHS "${WORK_DIR}/example" PATH_SUFFIXES Release NO_DEFAULT_PATH
               REQUIRED)
  set(data "${SOURCE_DIR}/python/scalinglaw/data/chinchilla_fig4_epoch.csv")
  message(STATUS "+ ${fit_csv} --exclude-highest-loss 5 ${data}")
  execute_process(COMMAND "${fit_csv}" --exclude-highest-loss 5 "${data}" OUTPUT_VARIABLE json
                  COMMAND_ERROR_IS_FATAL ANY)
  message("${json}")
  string(JSON status GET "${json}" status)
  expect("${status}" converged "status")
  string(JSON runs GET "${json}" n_runs)
  expect("${runs}" 240 "n_runs")
  string(JSON starts GET "${json}" n_starts)
  expect("${starts}" 4500 "n_starts")
  string(JSON flops GET "${json}" frontier flops)
  expect("${flops}" 5.76e+23 "frontier.flops")
  foreach(key E A B alpha beta objective)
    string(JSON value GET "${json}" ${key})
    if(NOT value MATCHES "^[0-9]")
      message(FATAL_ERROR "${key} is not a positive number: ${value}")
    endif()
  endforeach()

  # Bad input: a message and exit status 2, never a crash.
  execute_process(COMMAND "${fit_csv}" "${WORK_DIR}/no-such-file.csv" RESULT_VARIABLE code
                  ERROR_VARIABLE message)
  expect("${code}" 2 "exit status for a missing file")
  execute_process(COMMAND "${fit_csv}" --budget -1 "${data}" RESULT_VARIABLE code
                  ERROR_VARIABLE message)
  expect("${code}" 2 "exit status for a negative budget")
  if(NOT message MATCHES "flops must be finite and > 0")
    message(FATAL_ERROR "unexpected message for a negative budget: ${message}")
  endif()
elseif(MODE STREQUAL "subdirectory")
  # No build type: the consumer checks that scalinglaw does not impose one.
  configure_and_build("${SOURCE_DIR}/tests/cpp/embed" "${WORK_DIR}/consumer"
                      "-DSCALINGLAW_SOURCE_DIR=${SOURCE_DIR}" -DCMAKE_BUILD_TYPE=)
  find_program(consumer consumer PATHS "${WORK_DIR}/consumer" PATH_SUFFIXES Release
               NO_DEFAULT_PATH REQUIRED)
  run("${consumer}")
else()
  message(FATAL_ERROR "MODE must be install or subdirectory, got '${MODE}'")
endif()
