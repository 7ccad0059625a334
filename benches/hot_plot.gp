# Plots benches/hot_scaling.csv (written by `bench_report --hot-only --scaling-csv`) as
# benches/hot_scaling.png: throughput of one hot element against the number of processes.
# Run from the crate root: gnuplot benches/hot_plot.gp (gnuplot is not needed by CI).
set terminal pngcairo size 800,480 noenhanced
set output 'benches/hot_scaling.png'
set datafile separator ','
set title 'One hot element: adds per second, all processes together'
set xlabel 'processes'
set ylabel 'M adds/s'
set xtics (1, 2, 4)
set key top right
set yrange [0:*]
set grid ytics
plot 'benches/hot_scaling.csv' using 1:2 skip 1 with linespoints lw 2 title 'bare fetch_add, one shared cell', \
     '' using 1:3 skip 1 with linespoints lw 2 title 'SharedArray::fetch_add', \
     '' using 1:4 skip 1 with linespoints lw 2 title 'StripedArray::add'
