#ifndef VIOSCOPE__CLI_H
#define VIOSCOPE__CLI_H

int cmd_doctor(int argc, char **argv);
int cmd_testbed_result(int argc, char **argv);
int cmd_fio_summary(int argc, char **argv);
int cmd_trace(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_recommend(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_peer(int argc, char **argv);
int cmd_usbip_server(int argc, char **argv);

#endif /* VIOSCOPE__CLI_H */
