;; A component in the text format, as a non-Python toolchain would emit it: it imports only
;; get-oplog-index from golem:api/host@1.1.0 (Golem 1.1.0's version) and exports
;; golem:it/api.{next-index}.  golem-promise must link just that one import.
(component
  (import "golem:api/host@1.1.0" (instance $host
    (export "get-oplog-index" (func (result u64)))
  ))
  (core func $get (canon lower (func $host "get-oplog-index")))
  (core module $m
    (import "host" "get-oplog-index" (func $g (result i64)))
    (func (export "next-index") (result i64) call $g)
  )
  (core instance $imports (export "get-oplog-index" (func $get)))
  (core instance $i (instantiate $m (with "host" (instance $imports))))
  (func $next (result u64) (canon lift (core func $i "next-index")))
  (instance $api (export "next-index" (func $next)))
  (export "golem:it/api" (instance $api))
)
