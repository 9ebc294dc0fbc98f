# proven_load.s in audit mode: the proven load is checked again, and a
# refusal records fault kind 7 (ProofViolation), not 1 (OutOfBounds).
# proven: 0
# audit
ldxw %r0, [%r1+4]
stxdw [%r10-8], %r0
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;     sig0 = (i64) preserve_all
;;     fn0 = colocated u2:0 sig0
;;
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
;;                                     v106 -> v1
;;                                     v12 = load.i64 notrap aligned v0+56
;;                                     v20 = load.i64 notrap aligned v0+24
;;                                     v21 = iconst.i64 1
;;                                     v22 = icmp uge v20, v21  ; v21 = 1
;;                                     v23 = iconst.i64 0
;;                                     v24 = iadd v20, v23  ; v23 = 0
;;                                     v25 = iconst.i64 0
;;                                     v26 = select v22, v24, v25  ; v25 = 0
;;                                     v27 = iconst.i64 2
;;                                     v28 = icmp uge v20, v27  ; v27 = 2
;;                                     v29 = iconst.i64 -1
;;                                     v30 = iadd v20, v29  ; v29 = -1
;;                                     v31 = iconst.i64 0
;;                                     v32 = select v28, v30, v31  ; v31 = 0
;;                                     v33 = iconst.i64 4
;;                                     v34 = icmp uge v20, v33  ; v33 = 4
;;                                     v35 = iconst.i64 -3
;;                                     v36 = iadd v20, v35  ; v35 = -3
;;                                     v37 = iconst.i64 0
;;                                     v38 = select v34, v36, v37  ; v37 = 0
;;                                     v39 = iconst.i64 8
;;                                     v40 = icmp uge v20, v39  ; v39 = 8
;;                                     v41 = iconst.i64 -7
;;                                     v42 = iadd v20, v41  ; v41 = -7
;;                                     v43 = iconst.i64 0
;;                                     v44 = select v40, v42, v43  ; v43 = 0
;;                                     v45 = load.i64 notrap aligned v0+32
;;                                     v46 = iconst.i64 1
;;                                     v47 = icmp uge v45, v46  ; v46 = 1
;;                                     v48 = iconst.i64 0
;;                                     v49 = iadd v45, v48  ; v48 = 0
;;                                     v50 = iconst.i64 0
;;                                     v51 = select v47, v49, v50  ; v50 = 0
;;                                     v52 = iconst.i64 2
;;                                     v53 = icmp uge v45, v52  ; v52 = 2
;;                                     v54 = iconst.i64 -1
;;                                     v55 = iadd v45, v54  ; v54 = -1
;;                                     v56 = iconst.i64 0
;;                                     v57 = select v53, v55, v56  ; v56 = 0
;;                                     v58 = iconst.i64 4
;;                                     v59 = icmp uge v45, v58  ; v58 = 4
;;                                     v60 = iconst.i64 -3
;;                                     v61 = iadd v45, v60  ; v60 = -3
;;                                     v62 = iconst.i64 0
;;                                     v63 = select v59, v61, v62  ; v62 = 0
;;                                     v64 = iconst.i64 8
;;                                     v65 = icmp uge v45, v64  ; v64 = 8
;;                                     v66 = iconst.i64 -7
;;                                     v67 = iadd v45, v66  ; v66 = -7
;;                                     v68 = iconst.i64 0
;;                                     v69 = select v65, v67, v68  ; v68 = 0
;;                                     jump block3(v26, v32, v38, v44, v51, v57, v63, v69)
;;
;;                                 block3(v70: i64, v71: i64, v72: i64, v73: i64, v74: i64, v75: i64, v76: i64, v77: i64):
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v78 = iconst.i64 3
;; @0000                               v79 = icmp.i64 uge v12, v78  ; v78 = 3
;; @0000                               brif v79, block4, block5
;;
;;                                 block5 cold:
;; @0000                               v80 = iconst.i64 3
;; @0000                               v81 = iconst.i64 0
;; @0000                               v82 = iconst.i64 0
;; @0000                               v83 = iconst.i64 0
;; @0000                               v84 = iconst.i64 0
;; @0000                               v85 = iconst.i64 0
;; @0000                               jump block2(v80, v82, v81, v83, v84, v85, v12)  ; v80 = 3, v82 = 0, v81 = 0, v83 = 0, v84 = 0, v85 = 0
;;
;;                                 block4:
;; @0000                               v86 = iconst.i64 -3
;; @0000                               v87 = iadd.i64 v12, v86  ; v86 = -3
;;                                     v120 -> v87
;;                                     v122 -> v87
;; @0000                               v88 = iconst.i64 4
;; @0000                               v89 = iadd.i64 v3, v88  ; v88 = 4
;; @0000                               v90 = load.i64 notrap aligned readonly can_move v0+16
;; @0000                               v91 = isub v89, v90
;; @0000                               v92 = icmp ult v91, v72
;; @0000                               brif v92, block6, block8
;;
;;                                 block8 cold:
;; @0000                               v93 = load.i64 notrap aligned readonly can_move v0
;; @0000                               v94 = isub.i64 v89, v93
;; @0000                               v95 = iconst.i64 4092
;; @0000                               v96 = icmp ule v94, v95  ; v95 = 4092
;; @0000                               brif v96, block6, block7
;;
;;                                 block7 cold:
;; @0000                               v97 = iconst.i64 4
;; @0000                               v98 = iconst.i64 0
;; @0000                               v99 = iconst.i64 7
;; @0000                               v100 = iconst.i64 0
;; @0000                               v101 = iconst.i64 4
;; @0000                               v102 = iconst.i64 0
;; @0000                               v103 = iconst.i64 2
;; @0000                               store.i64 notrap aligned v89, v0+80
;; @0000                               store notrap aligned v97, v0+88  ; v97 = 4
;; @0000                               store notrap aligned v98, v0+96  ; v98 = 0
;; @0000                               call fn0(v0)
;; @0000                               v104 = load.i64 notrap aligned v0+64
;; @0000                               brif v104, block2(v99, v100, v89, v101, v102, v103, v87), block6  ; v99 = 7, v100 = 0, v101 = 4, v102 = 0, v103 = 2
;;
;;                                 block6:
;; @0000                               v105 = uload32.i64 notrap little v89
;;                                     v123 -> v105
;; @0001                               v107 = iconst.i64 -8
;; @0001                               v108 = iadd.i64 v1, v107  ; v107 = -8
;; @0001                               v109 = load.i64 notrap aligned readonly can_move v0
;; @0001                               v110 = isub v108, v109
;; @0001                               v111 = iconst.i64 4088
;; @0001                               v112 = icmp ule v110, v111  ; v111 = 4088
;; @0001                               brif v112, block9, block10
;;
;;                                 block10 cold:
;; @0001                               v113 = iconst.i64 8
;; @0001                               v114 = iconst.i64 1
;; @0001                               v115 = iconst.i64 7
;; @0001                               v116 = iconst.i64 1
;; @0001                               v117 = iconst.i64 8
;; @0001                               v118 = iconst.i64 1
;; @0001                               v119 = iconst.i64 1
;; @0001                               store.i64 notrap aligned v108, v0+80
;; @0001                               store notrap aligned v113, v0+88  ; v113 = 8
;; @0001                               store notrap aligned v114, v0+96  ; v114 = 1
;; @0001                               call fn0(v0)
;; @0001                               v121 = load.i64 notrap aligned v0+64
;; @0001                               brif v121, block2(v115, v116, v108, v117, v118, v119, v87), block9  ; v115 = 7, v116 = 1, v117 = 8, v118 = 1, v119 = 1
;;
;;                                 block9:
;; @0001                               store.i64 notrap little v105, v108
;; @0002                               store.i64 notrap aligned v87, v0+56
;; @0002                               v124 = iconst.i64 0
;; @0002                               v125 = iconst.i64 0
;; @0002                               v126 = iconst.i64 0
;; @0002                               v127 = iconst.i64 0
;; @0002                               v128 = iconst.i64 0
;; @0002                               v129 = iconst.i64 0
;; @0002                               return v105, v124, v125, v126, v127, v128, v129  ; v124 = 0, v125 = 0, v126 = 0, v127 = 0, v128 = 0, v129 = 0
;;
;;                                 block2(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v130 = iconst.i64 0
;;                                     v131 = iconst.i64 1
;;                                     return v130, v130, v130, v130, v130, v130, v131  ; v130 = 0, v130 = 0, v130 = 0, v130 = 0, v130 = 0, v130 = 0, v131 = 1
;; }
