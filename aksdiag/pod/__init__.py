"""`aksdiag pod`: run any probe inside the cluster from one-shot pods, on one node or on every node.

spec.py builds the pod (pure), client.py speaks the API server's REST protocol (create, watch, logs, delete),
run.py drives one run and always deletes its pods, merge.py turns the pods' reports into one report.
"""
