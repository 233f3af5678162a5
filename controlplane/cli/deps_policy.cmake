# cgctl policy ...: links the policy compiler (policies/compiler).
list(APPEND CGCTL_DEPS cg_policy_compiler)
