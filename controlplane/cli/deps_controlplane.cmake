# cgctl login / policy apply ... / events / audit / users talk to cg-controld over HTTPS.
list(APPEND CGCTL_DEPS cg_cp_rest_client)
