;; A guest whose own work is negligible, in the component text format: round-trips(n) runs n
;; times create-promise, complete-promise, await-promise and delete-promise of
;; golem:api/host@1.1.0 and returns the last promise's index.  bench/bench_components.py uses
;; it to measure what a host call costs the host.
(component
  (import "golem:api/host@1.1.0" (instance $host
    (type $uuid (record (field "high-bits" u64) (field "low-bits" u64)))
    (export "uuid" (type $u (eq $uuid)))
    (type $cid (record (field "uuid" $u)))
    (export "component-id" (type $c (eq $cid)))
    (type $wid (record (field "component-id" $c) (field "worker-name" string)))
    (export "worker-id" (type $w (eq $wid)))
    (type $pid (record (field "worker-id" $w) (field "oplog-idx" u64)))
    (export "promise-id" (type $p (eq $pid)))
    (export "create-promise" (func (result $p)))
    (export "complete-promise" (func (param "promise-id" $p) (param "data" (list u8)) (result bool)))
    (export "await-promise" (func (param "promise-id" $p) (result (list u8))))
    (export "delete-promise" (func (param "promise-id" $p)))
  ))
  (core module $mem
    (memory (export "memory") 1)
    (global $next (mut i32) (i32.const 1024))
    ;; A bump allocator that starts over at 1024 each round (nothing lives longer).
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $at i32)
      (local.set $at (i32.and (i32.add (global.get $next) (i32.sub (local.get 2) (i32.const 1))) (i32.xor (i32.sub (local.get 2) (i32.const 1)) (i32.const -1))))
      (global.set $next (i32.add (local.get $at) (local.get 3)))
      (local.get $at))
    (func (export "reset") (global.set $next (i32.const 1024)))
  )
  (core instance $m (instantiate $mem))
  (alias core export $m "memory" (core memory $memory))
  (alias core export $m "realloc" (core func $realloc))
  (core func $create (canon lower (func $host "create-promise") (memory $memory) (realloc $realloc) string-encoding=utf8))
  (core func $complete (canon lower (func $host "complete-promise") (memory $memory) (realloc $realloc) string-encoding=utf8))
  (core func $await (canon lower (func $host "await-promise") (memory $memory) (realloc $realloc) string-encoding=utf8))
  (core func $delete (canon lower (func $host "delete-promise") (memory $memory) (realloc $realloc) string-encoding=utf8))
  (core module $guest
    (import "host" "create" (func $create (param i32)))
    (import "host" "complete" (func $complete (param i64 i64 i32 i32 i64 i32 i32) (result i32)))
    (import "host" "await" (func $await (param i64 i64 i32 i32 i64 i32)))
    (import "host" "delete" (func $delete (param i64 i64 i32 i32 i64)))
    (import "mem" "memory" (memory 1))
    (import "mem" "reset" (func $reset))
    (func (export "round-trips") (param $n i32) (result i64)
      (local $idx i64)
      (i32.store8 (i32.const 512) (i32.const 120)) ;; the payload: "x" at 512
      (block $done
        (loop $again
          (br_if $done (i32.eqz (local.get $n)))
          (call $reset)
          ;; create-promise: the record at 0: high @0, low @8, name ptr @16, len @20, index @24
          (call $create (i32.const 0))
          (local.set $idx (i64.load (i32.const 24)))
          (drop (call $complete (i64.load (i32.const 0)) (i64.load (i32.const 8)) (i32.load (i32.const 16))
                                (i32.load (i32.const 20)) (local.get $idx) (i32.const 512) (i32.const 1)))
          ;; await-promise: the list at 64 (ptr, len)
          (call $await (i64.load (i32.const 0)) (i64.load (i32.const 8)) (i32.load (i32.const 16))
                       (i32.load (i32.const 20)) (local.get $idx) (i32.const 64))
          (call $delete (i64.load (i32.const 0)) (i64.load (i32.const 8)) (i32.load (i32.const 16))
                        (i32.load (i32.const 20)) (local.get $idx))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $again)))
      (local.get $idx))
  )
  (core instance $g (instantiate $guest
    (with "host" (instance
      (export "create" (func $create))
      (export "complete" (func $complete))
      (export "await" (func $await))
      (export "delete" (func $delete))))
    (with "mem" (instance $m))))
  (func $rt (param "n" u32) (result u64) (canon lift (core func $g "round-trips")))
  (instance $api (export "round-trips" (func $rt)))
  (export "golem:it/bench" (instance $api))
)
