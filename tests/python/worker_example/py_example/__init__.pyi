# Type stub of the world package componentize-py generates for the example worker.  Only the
# part the worker uses: the host API, provided at run time by golem_promise.install_host_module.
