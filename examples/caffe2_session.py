"""The example from the docstring of Caffe2's ``Session`` (caffe2/python/session.py), in netjit.

A net, a step made from its clone, a GLOBAL init task group on node1 whose net
makes a string constant, and a PRIVATE task group whose tasks on node1 and
node2 print messages (node1 prints the blob the init group made), all run by
one LocalSession. Run it with ``python examples/caffe2_session.py``.
"""
import netjit as nj


def main() -> nj.LocalSession:
    net = nj.Net("test1")
    net.Add([net.Const(1), net.Const(2)])

    net2 = net.Clone()
    step = nj.execution_step("step1", [net2])

    with nj.TaskGroup(nj.WorkspaceType.GLOBAL) as init_tg:
        with nj.Node("node1"):
            n1setup = nj.Net("n1setup")
            n1msg = n1setup.Const("Hello from node 1.")
            nj.Task(step=n1setup)

    with nj.TaskGroup() as private_tg:
        with nj.Node("node1"):
            n1 = nj.Net("n1")
            n1.Print(n1msg, 0)
            nj.Task(step=n1)
        with nj.Node("node2"):
            n2 = nj.Net("n2")
            n2.Print(n2.Const("Hello from node 2."), 0)
            nj.Task(step=n2)

    session = nj.LocalSession()
    session.run(net)
    session.run(step)
    session.run(init_tg)
    session.run(private_tg)
    return session


if __name__ == "__main__":
    ws = main().workspace
    print({name: ws.fetch_blob(name).tolist() for name in sorted(ws.blobs)})
