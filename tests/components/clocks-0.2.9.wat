;; A component in the text format that reads both WASI clocks, as a Rust component built against
;; WASI 0.2.9 imports them (only the functions it calls): clocks() returns the wall clock's
;; seconds and nanoseconds and the monotonic clock's reading.  Both are recorded in the worker's
;; oplog and replayed (docs/components.md, "Durable invocations").
(component
  (import "wasi:clocks/wall-clock@0.2.9" (instance $wall
    (type $dt (record (field "seconds" u64) (field "nanoseconds" u32)))
    (export "datetime" (type $d (eq $dt)))
    (export "now" (func (result $d)))
  ))
  (import "wasi:clocks/monotonic-clock@0.2.9" (instance $mono
    (type $u u64)
    (export "instant" (type $i (eq $u)))
    (export "now" (func (result $i)))
  ))
  (core module $mem (memory (export "memory") 1))
  (core instance $m (instantiate $mem))
  (alias core export $m "memory" (core memory $memory))
  (core func $wall_now (canon lower (func $wall "now") (memory $memory)))
  (core func $mono_now (canon lower (func $mono "now")))
  (core module $guest
    (import "host" "wall-now" (func $wall_now (param i32)))
    (import "host" "mono-now" (func $mono_now (result i64)))
    (import "mem" "memory" (memory 1))
    ;; The result tuple<u64, u32, u64> goes to 64: wall seconds @64, nanoseconds @72, mono @80.
    (func (export "clocks") (result i32)
      (call $wall_now (i32.const 0))
      (i64.store (i32.const 64) (i64.load (i32.const 0)))
      (i32.store (i32.const 72) (i32.load (i32.const 8)))
      (i64.store (i32.const 80) (call $mono_now))
      (i32.const 64))
  )
  (core instance $g (instantiate $guest
    (with "host" (instance (export "wall-now" (func $wall_now)) (export "mono-now" (func $mono_now))))
    (with "mem" (instance $m))))
  (func $clocks (result (tuple u64 u32 u64)) (canon lift (core func $g "clocks") (memory $memory)))
  (instance $api (export "clocks" (func $clocks)))
  (export "golem:it/clocks" (instance $api))
)
