mov %r1, 3
call 5
call local f
exit
f:
mov %r0, %r1
exit
;; ---- expected CLIF (CRANEBPF_BLESS=1 to update) ----
;; function u0:0(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;     sig0 = (i64, i64, i64, i64, i64, i64, i64) -> i64 system_v
;;     sig1 = (i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail
;;     fn0 = colocated u0:1 sig1
;;
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
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
;;                                     jump block5(v26, v32, v38, v44, v51, v57, v63, v69)
;;
;;                                 block5(v70: i64, v71: i64, v72: i64, v73: i64, v74: i64, v75: i64, v76: i64, v77: i64):
;;                                     jump block1
;;
;;                                 block1:
;; @0000                               v78 = iconst.i64 2
;; @0000                               v79 = icmp.i64 uge v12, v78  ; v78 = 2
;; @0000                               brif v79, block6, block7
;;
;;                                 block7 cold:
;; @0000                               v80 = iconst.i64 3
;; @0000                               v81 = iconst.i64 0
;; @0000                               v82 = iconst.i64 0
;; @0000                               v83 = iconst.i64 0
;; @0000                               v84 = iconst.i64 0
;; @0000                               v85 = iconst.i64 0
;; @0000                               jump block4(v80, v82, v81, v83, v84, v85, v12)  ; v80 = 3, v82 = 0, v81 = 0, v83 = 0, v84 = 0, v85 = 0
;;
;;                                 block6:
;; @0000                               v86 = iconst.i64 -2
;; @0000                               v87 = iadd.i64 v12, v86  ; v86 = -2
;; @0000                               v88 = iconst.i64 3
;; @0001                               v89 = iconst.i64 5
;; @0001                               v90 = iconst.i64 0
;; @0001                               v91 = call_indirect sig0, v90(v0, v89, v88, v4, v5, v6, v7)  ; v90 = 0, v89 = 5, v88 = 3
;; @0001                               v92 = load.i64 notrap aligned v0+64
;; @0001                               brif v92, block8, block9
;;
;;                                 block8 cold:
;; @0001                               v93 = load.i64 notrap aligned v0+80
;; @0001                               v94 = iconst.i64 1
;; @0001                               v95 = iconst.i64 0
;; @0001                               v96 = iconst.i64 0
;; @0001                               v97 = iconst.i64 0
;; @0001                               jump block4(v92, v94, v93, v95, v96, v97, v87)  ; v94 = 1, v95 = 0, v96 = 0, v97 = 0
;;
;;                                 block9:
;; @0001                               v98 = load.i64 notrap aligned v0+24
;; @0001                               v99 = iconst.i64 1
;; @0001                               v100 = icmp uge v98, v99  ; v99 = 1
;; @0001                               v101 = iconst.i64 0
;; @0001                               v102 = iadd v98, v101  ; v101 = 0
;; @0001                               v103 = iconst.i64 0
;; @0001                               v104 = select v100, v102, v103  ; v103 = 0
;; @0001                               v105 = iconst.i64 2
;; @0001                               v106 = icmp uge v98, v105  ; v105 = 2
;; @0001                               v107 = iconst.i64 -1
;; @0001                               v108 = iadd v98, v107  ; v107 = -1
;; @0001                               v109 = iconst.i64 0
;; @0001                               v110 = select v106, v108, v109  ; v109 = 0
;; @0001                               v111 = iconst.i64 4
;; @0001                               v112 = icmp uge v98, v111  ; v111 = 4
;; @0001                               v113 = iconst.i64 -3
;; @0001                               v114 = iadd v98, v113  ; v113 = -3
;; @0001                               v115 = iconst.i64 0
;; @0001                               v116 = select v112, v114, v115  ; v115 = 0
;; @0001                               v117 = iconst.i64 8
;; @0001                               v118 = icmp uge v98, v117  ; v117 = 8
;; @0001                               v119 = iconst.i64 -7
;; @0001                               v120 = iadd v98, v119  ; v119 = -7
;; @0001                               v121 = iconst.i64 0
;; @0001                               v122 = select v118, v120, v121  ; v121 = 0
;; @0001                               v123 = load.i64 notrap aligned v0+32
;; @0001                               v124 = iconst.i64 1
;; @0001                               v125 = icmp uge v123, v124  ; v124 = 1
;; @0001                               v126 = iconst.i64 0
;; @0001                               v127 = iadd v123, v126  ; v126 = 0
;; @0001                               v128 = iconst.i64 0
;; @0001                               v129 = select v125, v127, v128  ; v128 = 0
;; @0001                               v130 = iconst.i64 2
;; @0001                               v131 = icmp uge v123, v130  ; v130 = 2
;; @0001                               v132 = iconst.i64 -1
;; @0001                               v133 = iadd v123, v132  ; v132 = -1
;; @0001                               v134 = iconst.i64 0
;; @0001                               v135 = select v131, v133, v134  ; v134 = 0
;; @0001                               v136 = iconst.i64 4
;; @0001                               v137 = icmp uge v123, v136  ; v136 = 4
;; @0001                               v138 = iconst.i64 -3
;; @0001                               v139 = iadd v123, v138  ; v138 = -3
;; @0001                               v140 = iconst.i64 0
;; @0001                               v141 = select v137, v139, v140  ; v140 = 0
;; @0001                               v142 = iconst.i64 8
;; @0001                               v143 = icmp uge v123, v142  ; v142 = 8
;; @0001                               v144 = iconst.i64 -7
;; @0001                               v145 = iadd v123, v144  ; v144 = -7
;; @0001                               v146 = iconst.i64 0
;; @0001                               v147 = select v143, v145, v146  ; v146 = 0
;; @0001                               jump block10(v104, v110, v116, v122, v129, v135, v141, v147)
;;
;;                                 block10(v148: i64, v149: i64, v150: i64, v151: i64, v152: i64, v153: i64, v154: i64, v155: i64):
;; @0002                               jump block2
;;
;;                                 block2:
;; @0002                               v156 = iconst.i64 1
;; @0002                               v157 = icmp.i64 uge v87, v156  ; v156 = 1
;; @0002                               brif v157, block11, block12
;;
;;                                 block12 cold:
;; @0002                               v158 = iconst.i64 3
;; @0002                               v159 = iconst.i64 0
;; @0002                               v160 = iconst.i64 2
;; @0002                               v161 = iconst.i64 0
;; @0002                               v162 = iconst.i64 0
;; @0002                               v163 = iconst.i64 0
;; @0002                               jump block4(v158, v160, v159, v161, v162, v163, v87)  ; v158 = 3, v160 = 2, v159 = 0, v161 = 0, v162 = 0, v163 = 0
;;
;;                                 block11:
;; @0002                               v164 = iconst.i64 -1
;; @0002                               v165 = iadd.i64 v87, v164  ; v164 = -1
;; @0002                               v166 = load.i64 notrap aligned readonly can_move v0
;; @0002                               v167 = isub.i64 v1, v166
;; @0002                               v168 = iconst.i64 1024
;; @0002                               v169 = icmp uge v167, v168  ; v168 = 1024
;; @0002                               brif v169, block13, block14
;;
;;                                 block14 cold:
;; @0002                               v170 = iconst.i64 4
;; @0002                               v171 = iconst.i64 0
;; @0002                               v172 = iconst.i64 2
;; @0002                               v173 = iconst.i64 0
;; @0002                               v174 = iconst.i64 0
;; @0002                               v175 = iconst.i64 0
;; @0002                               jump block4(v170, v172, v171, v173, v174, v175, v165)  ; v170 = 4, v172 = 2, v171 = 0, v173 = 0, v174 = 0, v175 = 0
;;
;;                                 block13:
;; @0002                               store.i64 notrap aligned v165, v0+56
;; @0002                               v176 = iconst.i64 -512
;; @0002                               v177 = iadd.i64 v1, v176  ; v176 = -512
;; @0002                               v178, v179, v180, v181, v182, v183, v184 = call fn0(v0, v177, v91, v88, v4, v5, v6, v7, v8, v9, v10, v11)  ; v88 = 3
;; @0002                               brif v184, block15, block16
;;
;;                                 block15 cold:
;; @0002                               return v178, v179, v180, v181, v182, v183, v184
;;
;;                                 block16:
;; @0002                               v185 = load.i64 notrap aligned v0+56
;; @0002                               v186 = load.i64 notrap aligned v0+24
;; @0002                               v187 = iconst.i64 1
;; @0002                               v188 = icmp uge v186, v187  ; v187 = 1
;; @0002                               v189 = iconst.i64 0
;; @0002                               v190 = iadd v186, v189  ; v189 = 0
;; @0002                               v191 = iconst.i64 0
;; @0002                               v192 = select v188, v190, v191  ; v191 = 0
;; @0002                               v193 = iconst.i64 2
;; @0002                               v194 = icmp uge v186, v193  ; v193 = 2
;; @0002                               v195 = iconst.i64 -1
;; @0002                               v196 = iadd v186, v195  ; v195 = -1
;; @0002                               v197 = iconst.i64 0
;; @0002                               v198 = select v194, v196, v197  ; v197 = 0
;; @0002                               v199 = iconst.i64 4
;; @0002                               v200 = icmp uge v186, v199  ; v199 = 4
;; @0002                               v201 = iconst.i64 -3
;; @0002                               v202 = iadd v186, v201  ; v201 = -3
;; @0002                               v203 = iconst.i64 0
;; @0002                               v204 = select v200, v202, v203  ; v203 = 0
;; @0002                               v205 = iconst.i64 8
;; @0002                               v206 = icmp uge v186, v205  ; v205 = 8
;; @0002                               v207 = iconst.i64 -7
;; @0002                               v208 = iadd v186, v207  ; v207 = -7
;; @0002                               v209 = iconst.i64 0
;; @0002                               v210 = select v206, v208, v209  ; v209 = 0
;; @0002                               v211 = load.i64 notrap aligned v0+32
;; @0002                               v212 = iconst.i64 1
;; @0002                               v213 = icmp uge v211, v212  ; v212 = 1
;; @0002                               v214 = iconst.i64 0
;; @0002                               v215 = iadd v211, v214  ; v214 = 0
;; @0002                               v216 = iconst.i64 0
;; @0002                               v217 = select v213, v215, v216  ; v216 = 0
;; @0002                               v218 = iconst.i64 2
;; @0002                               v219 = icmp uge v211, v218  ; v218 = 2
;; @0002                               v220 = iconst.i64 -1
;; @0002                               v221 = iadd v211, v220  ; v220 = -1
;; @0002                               v222 = iconst.i64 0
;; @0002                               v223 = select v219, v221, v222  ; v222 = 0
;; @0002                               v224 = iconst.i64 4
;; @0002                               v225 = icmp uge v211, v224  ; v224 = 4
;; @0002                               v226 = iconst.i64 -3
;; @0002                               v227 = iadd v211, v226  ; v226 = -3
;; @0002                               v228 = iconst.i64 0
;; @0002                               v229 = select v225, v227, v228  ; v228 = 0
;; @0002                               v230 = iconst.i64 8
;; @0002                               v231 = icmp uge v211, v230  ; v230 = 8
;; @0002                               v232 = iconst.i64 -7
;; @0002                               v233 = iadd v211, v232  ; v232 = -7
;; @0002                               v234 = iconst.i64 0
;; @0002                               v235 = select v231, v233, v234  ; v234 = 0
;; @0002                               jump block17(v192, v198, v204, v210, v217, v223, v229, v235)
;;
;;                                 block17(v236: i64, v237: i64, v238: i64, v239: i64, v240: i64, v241: i64, v242: i64, v243: i64):
;; @0003                               jump block3
;;
;;                                 block3:
;; @0003                               v244 = iconst.i64 1
;; @0003                               v245 = icmp.i64 uge v185, v244  ; v244 = 1
;; @0003                               brif v245, block18, block19
;;
;;                                 block19 cold:
;; @0003                               v246 = iconst.i64 3
;; @0003                               v247 = iconst.i64 0
;; @0003                               v248 = iconst.i64 3
;; @0003                               v249 = iconst.i64 0
;; @0003                               v250 = iconst.i64 0
;; @0003                               v251 = iconst.i64 0
;; @0003                               jump block4(v246, v248, v247, v249, v250, v251, v185)  ; v246 = 3, v248 = 3, v247 = 0, v249 = 0, v250 = 0, v251 = 0
;;
;;                                 block18:
;; @0003                               v252 = iconst.i64 -1
;; @0003                               v253 = iadd.i64 v185, v252  ; v252 = -1
;; @0003                               store notrap aligned v253, v0+56
;; @0003                               v254 = iconst.i64 0
;; @0003                               v255 = iconst.i64 0
;; @0003                               v256 = iconst.i64 0
;; @0003                               v257 = iconst.i64 0
;; @0003                               v258 = iconst.i64 0
;; @0003                               v259 = iconst.i64 0
;; @0003                               return v178, v254, v255, v256, v257, v258, v259  ; v254 = 0, v255 = 0, v256 = 0, v257 = 0, v258 = 0, v259 = 0
;;
;;                                 block4(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v260 = iconst.i64 0
;;                                     v261 = iconst.i64 1
;;                                     return v260, v260, v260, v260, v260, v260, v261  ; v260 = 0, v260 = 0, v260 = 0, v260 = 0, v260 = 0, v260 = 0, v261 = 1
;; }
;; function u0:1(i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64, i64) -> i64, i64, i64, i64, i64, i64, i64 tail {
;;                                 block0(v0: i64, v1: i64, v2: i64, v3: i64, v4: i64, v5: i64, v6: i64, v7: i64, v8: i64, v9: i64, v10: i64, v11: i64):
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
;; @0004                               v78 = iconst.i64 2
;; @0004                               v79 = icmp.i64 uge v12, v78  ; v78 = 2
;; @0004                               brif v79, block4, block5
;;
;;                                 block5 cold:
;; @0004                               v80 = iconst.i64 3
;; @0004                               v81 = iconst.i64 0
;; @0004                               v82 = iconst.i64 4
;; @0004                               v83 = iconst.i64 0
;; @0004                               v84 = iconst.i64 0
;; @0004                               v85 = iconst.i64 0
;; @0004                               jump block2(v80, v82, v81, v83, v84, v85, v12)  ; v80 = 3, v82 = 4, v81 = 0, v83 = 0, v84 = 0, v85 = 0
;;
;;                                 block4:
;; @0004                               v86 = iconst.i64 -2
;; @0004                               v87 = iadd.i64 v12, v86  ; v86 = -2
;; @0005                               store notrap aligned v87, v0+56
;; @0005                               v88 = iconst.i64 0
;; @0005                               return v3, v3, v4, v5, v6, v7, v88  ; v88 = 0
;;
;;                                 block2(v13: i64, v14: i64, v15: i64, v16: i64, v17: i64, v18: i64, v19: i64) cold:
;;                                     store notrap aligned v13, v0+64
;;                                     store notrap aligned v14, v0+72
;;                                     store notrap aligned v15, v0+80
;;                                     store notrap aligned v16, v0+88
;;                                     store notrap aligned v17, v0+96
;;                                     store notrap aligned v18, v0+104
;;                                     store notrap aligned v19, v0+56
;;                                     v89 = iconst.i64 0
;;                                     v90 = iconst.i64 1
;;                                     return v89, v89, v89, v89, v89, v89, v90  ; v89 = 0, v89 = 0, v89 = 0, v89 = 0, v89 = 0, v89 = 0, v90 = 1
;; }
